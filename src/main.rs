fn main() {
    std::process::exit(ratecheck::cli::main());
}
