"""People's accounts: users with passwords, sessions in Redis behind a cookie, lockout, and the routes every
page signs in through (API tokens stay for machines)."""
