SELECT id, user_id, product, quantity, price, status, created_at, updated_at
FROM orders
ORDER BY id
