fn main() {
    println!("tandem: not yet wired");
}
