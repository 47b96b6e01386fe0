package compattest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	_ "github.com/raftsql/raftsql/driver"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// gormUser is the model both GORM tests migrate: a bigserial id, a unique
// index, a default, a timestamp, and a foreign key from gormPost.
type gormUser struct {
	ID        uint   `gorm:"primaryKey"`
	Name      string `gorm:"size:100;not null"`
	Email     string `gorm:"uniqueIndex;size:200"`
	Age       int    `gorm:"default:18"`
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	Posts     []gormPost `gorm:"foreignKey:UserID"`
}

type gormPost struct {
	ID     uint `gorm:"primaryKey"`
	UserID uint `gorm:"index"`
	Title  string
}

// gormLog fails nothing itself: the recording proxy names the statement
// the server refused; this adds the statement as GORM rendered it.
type gormLog struct{ t *testing.T }

func (l gormLog) LogMode(logger.LogLevel) logger.Interface    { return l }
func (l gormLog) Info(context.Context, string, ...any)        {}
func (l gormLog) Warn(context.Context, string, ...any)        {}
func (l gormLog) Error(_ context.Context, f string, a ...any) { l.t.Logf("gorm: "+f, a...) }
func (l gormLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), err error) {
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		sql, _ := fc()
		l.t.Logf("gorm: %v\n    statement: %s", err, sql)
	}
}

func TestGORMPgx(t *testing.T) {
	dsn := dsnFor(t, cluster.Follower())
	dropTables(t, "gorm_posts", "gorm_users")
	open := func() *gorm.DB {
		db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: gormLog{t}})
		if err != nil {
			t.Fatalf("gorm.Open: %v", err)
		}
		return db
	}
	runGORM(t, open)
}

func TestGORMRaftsqlDriver(t *testing.T) {
	dsn := dsnFor(t, cluster.Follower())
	dropTables(t, "gorm_posts", "gorm_users")
	open := func() *gorm.DB {
		sqlDB, err := sql.Open("raftsql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{Logger: gormLog{t}})
		if err != nil {
			t.Fatalf("gorm.Open: %v", err)
		}
		return db
	}
	runGORM(t, open)
}

// runGORM is an application's first start and its restart: AutoMigrate
// each time, then create, read, update, delete and a transaction.
func runGORM(t *testing.T, open func() *gorm.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	for start := 1; start <= 2; start++ {
		db := open().WithContext(ctx)
		if err := db.AutoMigrate(&gormUser{}, &gormPost{}); err != nil {
			t.Fatalf("start %d: AutoMigrate: %v", start, err)
		}
		sqlDB, _ := db.DB()
		sqlDB.Close()
	}
	db := open().WithContext(ctx)
	defer func() { sqlDB, _ := db.DB(); sqlDB.Close() }()

	u := gormUser{Name: "ada", Email: "ada@example.com", Active: true}
	if err := db.Create(&u).Error; err != nil {
		t.Fatalf("Create: %v", err)
	}
	if u.ID == 0 {
		t.Fatalf("Create gave no id: %+v", u)
	}
	if u.Age != 18 {
		t.Errorf("default age = %d, want 18", u.Age)
	}
	var got gormUser
	if err := db.First(&got, u.ID).Error; err != nil {
		t.Fatalf("First: %v", err)
	}
	if got.Name != "ada" || got.Email != "ada@example.com" || !got.Active {
		t.Fatalf("read %+v, want what was created", got)
	}
	if err := db.Model(&got).Update("age", 37).Error; err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.Where("name = ?", "ada").First(&got).Error; err != nil || got.Age != 37 {
		t.Fatalf("after Update: %+v, %v", got, err)
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&gormPost{UserID: u.ID, Title: "first"}).Error; err != nil {
			return err
		}
		return tx.Create(&gormPost{UserID: u.ID, Title: "second"}).Error
	})
	if err != nil {
		t.Fatalf("Transaction: %v", err)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&gormPost{UserID: u.ID, Title: "rolled back"}).Error; err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("a transaction whose function failed committed")
	}
	var n int64
	if err := db.Model(&gormPost{}).Where("user_id = ?", u.ID).Count(&n).Error; err != nil || n != 2 {
		t.Fatalf("posts = %d, %v; want 2", n, err)
	}
	var withPosts gormUser
	if err := db.Preload("Posts").First(&withPosts, u.ID).Error; err != nil || len(withPosts.Posts) != 2 {
		t.Fatalf("Preload: %d posts, %v", len(withPosts.Posts), err)
	}
	if err := db.Where("user_id = ?", u.ID).Delete(&gormPost{}).Error; err != nil {
		t.Fatalf("Delete posts: %v", err)
	}
	if err := db.Delete(&gormUser{}, u.ID).Error; err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := db.First(&got, u.ID).Error; !errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatalf("after Delete: %v, want record not found", err)
	}
}
