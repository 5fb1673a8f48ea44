//! PLACEHOLDER: being written by a helper session.
use crate::spec::{EnvInfo, Params};
use crate::{Env, EnvError, Grade, Kind, Task};

pub const INFO: EnvInfo = EnvInfo { name: "hex", summary: "(being written)", params: &[] };

#[derive(Debug, Clone)]
pub struct Hex;

impl Hex {
    pub(crate) fn from_params(_p: &mut Params) -> Result<Self, EnvError> {
        Err(EnvError::BadSpec("hex is being written".into()))
    }
}

impl Env for Hex {
    type State = crate::tictactoe::TicTacToeState;
    fn spec(&self) -> String { todo!() }
    fn kind(&self) -> Kind { todo!() }
    fn max_actions(&self) -> usize { todo!() }
    fn start(&self, _prompt: &str) -> Result<Self::State, EnvError> { todo!() }
    fn generate(&self, _seed: u64, _index: u64, _level: u32) -> Task { todo!() }
    fn task(&self, _id: &str, _prompt: &str, _extra: &serde_json::Value) -> Result<Task, EnvError> { todo!() }
    fn grade(&self, _task: &Task, _answer: &str) -> Grade { todo!() }
    fn answer(&self, _state: &Self::State) -> String { todo!() }
}
