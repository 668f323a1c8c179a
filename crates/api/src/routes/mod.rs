pub mod admins;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod companies;
pub mod demo;
pub mod dialplan;
// directories (issue 5)
pub mod directories;
pub mod lookup;
pub mod private_contacts;
// end directories
pub mod domains;
pub mod events;
pub mod grants;
pub mod groups;
pub mod licenses;
pub mod links;
pub mod parameters;
pub mod system;
pub mod telephony;
pub mod traces;
pub mod user_auth;
pub mod users;
// users import (issue 7)
pub mod user_imports;
