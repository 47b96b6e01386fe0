CREATE TABLE "drz_users" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" varchar(256) NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp DEFAULT now() NOT NULL,
	CONSTRAINT "drz_users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "drz_posts" (
	"id" serial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"author_id" integer NOT NULL,
	"meta" jsonb,
	"score" numeric
);
--> statement-breakpoint
ALTER TABLE "drz_posts" ADD CONSTRAINT "drz_posts_author_id_drz_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."drz_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "drz_posts_author_idx" ON "drz_posts" USING btree ("author_id");