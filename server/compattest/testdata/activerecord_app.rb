# ActiveRecord (Debian's ruby-activerecord, ruby-pg underneath): the
# migrations of activerecord_migrate/ run on a first start and again on a restart
# (nothing to do), then CRUD through models and a transaction.
# ARGV[0] is the database URL, ARGV[1] the migrations' directory.
require "active_record"

class ArCustomer < ActiveRecord::Base
  has_many :ar_orders, dependent: :destroy
end

class ArOrder < ActiveRecord::Base
  belongs_to :ar_customer
end

def check(cond, what)
  raise what unless cond
end

2.times do |start|
  ActiveRecord::Base.establish_connection(ARGV[0])
  ctx = ActiveRecord::MigrationContext.new(ARGV[1], ActiveRecord::SchemaMigration)
  ctx.migrate
  check(!ctx.needs_migration?, "migrations pending after migrate")
  check(ActiveRecord::Base.connection.table_exists?(:ar_orders), "no ar_orders")
  if start == 1
    ArOrder.delete_all
    ArCustomer.delete_all
    c = ArCustomer.create!(name: "ada", email: "ada@example.com")
    check(c.id.is_a?(Integer) && c.vip == false && c.created_at.is_a?(Time), "customer #{c.inspect}")
    o = c.ar_orders.create!(total: "12.50", items: { "sku" => ["a", 1] }, ship_on: Date.new(2024, 2, 3))
    got = ArOrder.includes(:ar_customer).find(o.id)
    check(got.ar_customer.name == "ada", "belongs_to #{got.ar_customer.inspect}")
    check(got.total == BigDecimal("12.5"), "total #{got.total.inspect}")
    check(got.items == { "sku" => ["a", 1] }, "items #{got.items.inspect}")
    check(got.ship_on == Date.new(2024, 2, 3), "ship_on #{got.ship_on.inspect}")
    ArCustomer.transaction do
      c.update!(vip: true)
      c.ar_orders.create!(total: 1)
    end
    begin
      ArCustomer.transaction do
        c.ar_orders.create!(total: 2)
        raise ActiveRecord::Rollback
      end
    end
    check(ArOrder.count == 2, "orders #{ArOrder.count}")
    check(ArCustomer.where(vip: true).count == 1, "vip")
    begin
      ArCustomer.create!(name: "dup", email: "ada@example.com")
      raise "duplicate email accepted"
    rescue ActiveRecord::RecordNotUnique
    end
    c.destroy
    check(ArOrder.count == 0, "dependent destroy")
  end
  ActiveRecord::Base.connection_pool.disconnect!
end
puts "ok"
