// Package packaging holds no code: its test checks the installer sources
// (the WiX file, the nfpm config, the desktop entries, the Group Policy
// template) against the Go code they must agree with, so that a property or
// path renamed on one side fails `go test ./...` long before a package is
// built. Building and testing the packages themselves is package.sh and
// test.sh (make package, make package-test).
package packaging
