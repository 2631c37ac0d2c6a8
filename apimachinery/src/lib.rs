
pub mod quantity;
