DROP TABLE pending_invitations;
