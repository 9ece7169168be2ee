-- What the books' frequent catch-up reads: payments and top-ups changed recently, orders
-- delivered in a window. Without these each run would read every order ever paid.
CREATE INDEX orders_delivered ON orders(delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX coin_topups_state ON coin_topups(state, updated_at);
