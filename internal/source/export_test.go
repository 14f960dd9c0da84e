package source

// SetLimits lowers Read's caps for a test and returns the undo.
func SetLimits(line, file int64) func() {
	old := limits
	limits.line, limits.file = line, file
	return func() { limits = old }
}
