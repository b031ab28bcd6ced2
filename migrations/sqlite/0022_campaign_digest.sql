-- Moderators see a created campaign as one digest message (Approve all / Review one by one) rather than one
-- message per post: a campaign of 215 posts would otherwise take the moderation group's whole sending budget
-- for minutes. When someone asks to review a campaign one by one, its waiting posts get their own moderation
-- messages and this is set: approving them all later edits those messages too (a campaign never reviewed has
-- none to look for). SQLite; the twin has the same stem.
ALTER TABLE campaigns ADD COLUMN reviewed_at TEXT;
