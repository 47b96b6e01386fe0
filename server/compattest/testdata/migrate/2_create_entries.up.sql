CREATE TABLE migrate_entries (
    id BIGSERIAL PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES migrate_accounts (id),
    amount NUMERIC(12, 2) NOT NULL
);
INSERT INTO migrate_accounts (name) VALUES ('opening');
