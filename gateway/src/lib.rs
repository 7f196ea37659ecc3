//! The gateway is Homeroom's one edge for web clients: REST/JSON and gRPC-Web
//! over the three gRPC services, provider webhooks, health and readiness.
//! It keeps nothing durable.

pub mod api;
pub mod app;
pub mod client_ip;
pub mod config;
pub mod console;
pub mod grpc_web;
pub mod health;
pub mod limits;
pub mod observe;
pub mod upstream;
pub mod webhooks;
