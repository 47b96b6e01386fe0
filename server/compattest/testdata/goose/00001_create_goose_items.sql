-- +goose Up
CREATE TABLE goose_items (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL
);

-- +goose Down
DROP TABLE goose_items;
