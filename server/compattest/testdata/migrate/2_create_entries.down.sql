DROP TABLE migrate_entries;
DELETE FROM migrate_accounts WHERE name = 'opening';
