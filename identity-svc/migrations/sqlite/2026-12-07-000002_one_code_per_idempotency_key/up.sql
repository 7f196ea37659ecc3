-- ID-4: a one-time code is sent after SendOneTimeCode answers; two retries
-- with the same idempotency key racing each other store one code.
CREATE UNIQUE INDEX one_time_codes_idempotency ON one_time_codes (address_id, idempotency_key);
