-- When a provider account's credentials were last refused by its network (revoked token, changed
-- password), and why: the organisers are told once when it starts, and again only after it worked.
ALTER TABLE providers ADD COLUMN refused_at TEXT;
ALTER TABLE providers ADD COLUMN refused_reason TEXT;
