CREATE TABLE migrate_accounts (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX migrate_accounts_name_idx ON migrate_accounts (name);
