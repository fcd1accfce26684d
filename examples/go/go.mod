module libctr.example/pullrun

go 1.19
