module github.com/raftsql/raftsql

go 1.26.8

// Dependency versions, chosen to build together:
//   - hashicorp/raft stays at v1.7.3: raft-boltdb/v2 v2.3.1 imports
//     github.com/hashicorp/go-metrics/compat, which go-metrics v0.7 dropped
//     and raft v1.8.0 requires; raft v1.7.3 with go-metrics v0.5.x builds
//     and has everything used here (BatchingFSM, pre-vote, leadership
//     transfer, CommitIndex).
//   - go.etcd.io/bbolt is raised from the v1.3.5 raft-boltdb asks for to a
//     current release (fixes since then, same API).
//   - modernc.org/sqlite v1.61.1 (SQLite 3.54.1): the state machine calls its
//     C API (modernc.org/sqlite/lib) directly, which depends on this exact
//     version's layout of sqlite3_vfs; move it only with fsm's tests green.
//   - prometheus/client_golang v1.23.2 serves /metrics (prometheus/common's
//     text parser reads it in tests). hashicorp/raft v1.7.3 reports through
//     go-metrics/compat, which without the hashicorpmetrics build tag is
//     armon/go-metrics v0.4.1: its prometheus sink bridges raft's metrics.
//   - pgx is used for its pgproto3 package only, in pgwire and driver (and as
//     a client in tests and the bench tool; pgx/v5/stdlib, which needs
//     jackc/puddle, only in driver's benchmark against pgx).
//   - gorm (with its postgres dialector), golang-migrate, goose, lib/pq and
//     bun (with pgdialect and its own wire client, pgdriver) are imported
//     only by the tests of server/compattest, which run them as tools.
//     goose stays at v3.26.0: later releases require modernc.org/sqlite
//     v1.62, and fsm needs v1.61.1 exactly.

require (
	github.com/golang-migrate/migrate/v4 v4.20.1
	github.com/hashicorp/go-hclog v1.6.2
	github.com/hashicorp/raft v1.7.3
	github.com/hashicorp/raft-boltdb/v2 v2.3.1
	github.com/jackc/pgx/v5 v5.12.0
	github.com/klauspost/compress v1.20.4
	github.com/lib/pq v1.10.9
	github.com/pressly/goose/v3 v3.26.0
	github.com/prometheus/client_golang v1.23.2
	github.com/prometheus/client_model v0.6.2
	github.com/prometheus/common v0.66.1
	github.com/spf13/pflag v1.1.0
	github.com/uptrace/bun v1.3.0
	github.com/uptrace/bun/dialect/pgdialect v1.3.0
	github.com/uptrace/bun/driver/pgdriver v1.2.18
	go.etcd.io/bbolt v1.5.0
	gorm.io/driver/postgres v1.6.3
	gorm.io/gorm v1.31.2
	modernc.org/libc v1.79.0
	modernc.org/sqlite v1.61.1
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/jinzhu/inflection v1.0.0 // indirect
	github.com/jinzhu/now v1.1.5 // indirect
	github.com/mfridman/interpolate v0.0.2 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/procfs v0.16.1 // indirect
	github.com/puzpuzpuz/xsync/v3 v3.5.1 // indirect
	github.com/sethvargo/go-retry v0.3.0 // indirect
	github.com/tmthrgd/go-hex v0.0.0-20190904060850-447a3041c3bc // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.opentelemetry.io/otel v1.44.0 // indirect
	go.opentelemetry.io/otel/trace v1.44.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/crypto v0.53.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
	mellium.im/sasl v0.3.2 // indirect
)

require (
	github.com/armon/go-metrics v0.4.1
	github.com/boltdb/bolt v1.3.1 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/fatih/color v1.13.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/go-immutable-radix v1.0.0 // indirect
	github.com/hashicorp/go-metrics v0.5.4 // indirect
	github.com/hashicorp/go-msgpack/v2 v2.1.2 // indirect
	github.com/hashicorp/golang-lru v0.5.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0
	golang.org/x/text v0.41.0 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
