//! The headless commands (`drain`, `cordon`, `uncordon`, `plan`, `campaign`, `sim`): the command
//! line's arguments mapped onto the engines, and the engines' events printed the way kubectl
//! prints them. The engines themselves know nothing of the command line.

pub mod campaign;
pub mod drain;
pub mod settings;
pub mod sim;
