DROP TABLE preferences;
DROP TABLE address_events;
DROP TABLE address_status;
DROP TABLE delivery_recipients;
DROP TABLE deliveries;
DROP TABLE communication_recipients;
DROP TABLE communications;
