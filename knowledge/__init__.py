"""The knowledge base (知识库, R-KB-1): departments' agreed answers, checked and kept current, found by agents in
the call and read to citizens on the phone."""
