package main

import (
	"os"

	"github.com/hallmark-dev/hallmark/internal/cli"
)

func main() { os.Exit(cli.Main()) }
