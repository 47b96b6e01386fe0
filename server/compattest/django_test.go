package compattest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// djangoTables are the tables of the startproject apps and of djapp, the
// children before their parents.
var djangoTables = []string{
	"djapp_book", "djapp_author", "django_admin_log", "auth_user_groups",
	"auth_user_user_permissions", "auth_group_permissions", "auth_permission",
	"auth_group", "auth_user", "django_content_type", "django_session",
	"django_migrations",
}

// djangoSettings is startproject's settings.py cut to what matters, with
// the database pointing at the cluster.
const djangoSettings = `SECRET_KEY = "compattest"
DEBUG = True
ALLOWED_HOSTS = []
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djapp",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "djproj.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug",
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "raftsql",
        "USER": "test",
        "HOST": %q,
        "PORT": %q,
    }
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_L10N = True
USE_TZ = True
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
`

// TestDjango: a Django project with the startproject apps and one of its
// own (a foreign key, a unique field, auto_now_add, a boolean, JSON) runs
// makemigrations and migrate on its first start and migrate again on a
// restart on another node, which has nothing to do; after each, ORM CRUD,
// atomic blocks, IntegrityError and inspectdb (testdata/django_app.py).
func TestDjango(t *testing.T) {
	need(t, python, "-c", "import django, psycopg2")
	for _, n := range djangoTables {
		dropTables(t, n)
	}
	dir := t.TempDir()
	if err := copyDir(filepath.Join("testdata", "django"), dir); err != nil {
		t.Fatal(err)
	}
	// The settings point at a node; the restart is on another one.
	first := cluster.Follower()
	point := func(node int) {
		t.Helper()
		host, port := hostPort(dsnFor(t, node))
		settings := fmt.Sprintf(djangoSettings, host, port)
		if err := os.WriteFile(filepath.Join(dir, "djproj", "settings.py"), []byte(settings), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	point(first)
	manage := func(args ...string) string {
		t.Helper()
		return runIn(t, dir, python, append([]string{"manage.py"}, args...)...)
	}

	// The first start.
	out := manage("makemigrations", "djapp")
	if !strings.Contains(out, "Create model Book") {
		t.Fatalf("makemigrations made no migration for Book:\n%s", out)
	}
	out = manage("migrate", "--no-input")
	for _, m := range []string{"Applying contenttypes.0001_initial", "Applying auth.0001_initial", "Applying admin.0001_initial", "Applying sessions.0001_initial", "Applying djapp.0001_initial"} {
		if !strings.Contains(out, m) {
			t.Fatalf("migrate did not say %q:\n%s", m, out)
		}
	}
	out = manage("showmigrations")
	if strings.Contains(out, "[ ]") || !strings.Contains(out, "[X] 0001_initial") {
		t.Fatalf("showmigrations lists a migration not applied:\n%s", out)
	}
	script(t, nil, python, "django_app.py", dir)

	// The restart, on another node: nothing to migrate, no model change
	// detected.
	point((first + 1) % cluster.Size())
	out = manage("migrate", "--no-input")
	if !strings.Contains(out, "No migrations to apply.") || strings.Contains(out, "Applying") {
		t.Fatalf("migrate on a restart was not a no-op:\n%s", out)
	}
	manage("makemigrations", "--check", "--dry-run")
	script(t, nil, python, "django_app.py", dir)
}

// runIn runs a command in dir, bounded by toolTimeout, and fails the test
// with its output when it fails.
func runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v:\n%s", strings.Join(args, " "), toolTimeout, out)
	}
	if err != nil {
		t.Fatalf("%s: %v:\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("%s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// copyDir copies the files under src into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}
