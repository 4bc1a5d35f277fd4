"""Loading a view's snapshot from the read models (SQL), and the store that decides where and when it reads."""
