package verify

// ReadBounded exposes readBounded to the tests, which use a small limit.
var ReadBounded = readBounded

// DecodeStatement exposes decodeStatement to the fuzz target.
var DecodeStatement = decodeStatement
