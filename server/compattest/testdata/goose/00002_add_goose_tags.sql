-- +goose Up
-- +goose StatementBegin
CREATE TABLE goose_tags (
    id SERIAL PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES goose_items (id),
    tag VARCHAR(40) NOT NULL
);
-- +goose StatementEnd
INSERT INTO goose_items (name) VALUES ('first');

-- +goose Down
DROP TABLE goose_tags;
DELETE FROM goose_items WHERE name = 'first';
