# A procedure for tests only: a real GAP computation that keeps a worker busy
# for a given number of CPU seconds, so a test can act while a call runs.
# The clock counts system time too: asking for it is a system call, and the
# loop spends most of its time there (user time alone made Busy(1) take 8 s).
BusyCPUTime := function( )
    local times;
    times := Runtimes();
    return times.user_time + times.system_time;
end;
InstallSCSCPprocedure( "Busy", function( seconds )
    local start;
    start := BusyCPUTime();
    while BusyCPUTime() - start < seconds * 1000 do od;
    return seconds;
end, "spin for the given number of CPU seconds", 1, 1 );

# GAP's OpenMath encoder cannot write `fail`: its reply is cut short and the
# session closed. A real quirk of GAP that the gateway must absorb.
InstallSCSCPprocedure( "ReturnFail", x -> fail, "answers fail", 1, 1 );

# Allocates about 8 * n bytes of GAP memory: a real computation that grows.
InstallSCSCPprocedure( "Allocate", function( n )
    local l;
    l := List( [ 1 .. n ], i -> i * 2^70 );
    return Length( l );
end, "allocate a list of n large integers", 1, 1 );
