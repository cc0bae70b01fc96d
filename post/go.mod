module pixshare/post

go 1.26.0

require (
	pixshare/platform v0.0.0-00010101000000-000000000000
	pixshare/proto v0.0.0-00010101000000-000000000000
)

require (
	golang.org/x/image v0.48.0
	pixshare/comment v0.0.0-00010101000000-000000000000
	pixshare/user v0.0.0-00010101000000-000000000000
)

replace (
	pixshare/platform => ../platform
	pixshare/proto => ../proto
)

replace pixshare/user => ../user

replace pixshare/comment => ../comment
