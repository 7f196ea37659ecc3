DROP TABLE invitation_links;
