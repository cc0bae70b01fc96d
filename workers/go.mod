module pixshare/workers

go 1.26.0

require (
	pixshare/platform v0.0.0-00010101000000-000000000000
	pixshare/post v0.0.0-00010101000000-000000000000
	pixshare/proto v0.0.0-00010101000000-000000000000
)

require (
	github.com/disintegration/imaging v1.6.2
	golang.org/x/image v0.48.0
)

replace (
	pixshare/platform => ../platform
	pixshare/post => ../post
	pixshare/proto => ../proto
)
