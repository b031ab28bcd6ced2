-- The language a person reads Herald in: a two-letter ISO 639-1 code of a shipped translation (`de`), set
-- from the chat platform's hint on first contact, an import's CSV column or `/settings language`. NULL
-- reads English.
ALTER TABLE people ADD COLUMN language TEXT;

-- An invitation's language (a CSV column of `herald invite --send`): the mail is written in it, and the
-- person who opens the link reads Herald in it.
ALTER TABLE link_tokens ADD COLUMN language TEXT;
