module example.com/x

require (
	github.com/a/b
