"""E-mail alerts: a citizen subscribes to an area and a layer or category, confirms by e-mail, and gets
the new reports there through the outbox, a digest when several arrive together."""
