fn main() {
    println!("{}", ponder_env::spec::describe_all());
}
