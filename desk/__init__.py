"""The agent desk in the browser: the sign-in and desk pages, and what they need from the API beside the
domains' own routes (the screen pop in one request, service phrases, transfer targets, the ticket form's choices)."""
