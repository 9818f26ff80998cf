"""Followers: any user follows a report or a component they may see, and gets a weekly
summary of its status changes."""
