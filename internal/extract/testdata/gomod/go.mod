module example.com/tiny

go 1.21

toolchain go1.22.5

require (
	github.com/gorilla/mux v1.8.0
	golang.org/x/text v0.3.7 // indirect
	example.com/local v0.0.0
)

replace golang.org/x/text => golang.org/x/text v0.14.0

replace example.com/local => ../local
