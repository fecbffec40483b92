"""Moderation: staff hide reports and photos from the public, approve held photos, edit public descriptions."""
