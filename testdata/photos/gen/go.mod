module pixshare/testdata/photos/gen

go 1.26.0

require github.com/HugoSmits86/nativewebp v0.9.3
