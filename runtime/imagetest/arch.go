package imagetest

import "runtime"

func goarch() string { return runtime.GOARCH }
