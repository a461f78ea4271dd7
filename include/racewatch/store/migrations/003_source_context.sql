-- Source context for the classifier (docs/classification.md): whose own channel a source is and its
-- main language. In a lab's own feed "we" and a bare model-name headline are that lab's announcement.
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS org VARCHAR;
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS lang VARCHAR;
