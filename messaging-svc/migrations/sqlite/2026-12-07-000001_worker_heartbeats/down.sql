DROP TABLE delivery_workers;
ALTER TABLE deliveries DROP COLUMN sending_since;
