DROP TABLE guardian_upload_rows;
DROP TABLE guardian_uploads;
