//! Storage: the diesel schema and one small sync module per concern.

pub mod audience;
pub mod classes;
pub mod districts;
pub mod duplicates;
pub mod invitations;
pub mod merges;
pub mod orgs;
pub mod people;
pub mod query;
pub mod records;
pub mod schema;
pub mod sync;
pub mod uploads;
