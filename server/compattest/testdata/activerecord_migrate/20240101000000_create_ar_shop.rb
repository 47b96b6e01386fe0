# A Rails migration as `rails generate model` writes them: references,
# timestamps and an index.
class CreateArShop < ActiveRecord::Migration[6.1]
  def change
    create_table :ar_customers do |t|
      t.string :name, null: false
      t.string :email
      t.boolean :vip, default: false
      t.timestamps
    end
    add_index :ar_customers, :email, unique: true
    create_table :ar_orders do |t|
      t.references :ar_customer, null: false, foreign_key: true
      t.decimal :total, precision: 10, scale: 2
      t.jsonb :items
      t.date :ship_on
      t.timestamps
    end
  end
end
