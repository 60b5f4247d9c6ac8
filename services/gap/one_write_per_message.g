#############################################################################
##
##  one_write_per_message.g -- make the SCSCP server send each message in
##  one write.
##
##  The scscp package writes `<?scscp start ?>` with WriteLine, which flushes
##  at once, and the rest of the message with a second flush. With Nagle's
##  algorithm on, the second write waits for the peer to acknowledge the
##  first, and a peer that delays its acknowledgements (most do) stalls every
##  reply by ~40 ms. Keeping the start line in the buffer makes the reply one
##  write, flushed with its end line, so no client pays the stall.
##
InstallMethod( WriteLine, "for an SCSCP TCP stream: keep a message start buffered",
    [ IsInputOutputTCPStreamRep and IsInputOutputStream, IsString ], 1,
function( stream, line )
    if line <> "<?scscp start ?>" then
        TryNextMethod();
    fi;
    return IO_Write( stream![1], line, IO.LineEndChars );
end );

# The package's WriteAll writes byte by byte, one IO_Write call each; GAP's
# OpenMath writer prints every element through it. One call per string.
InstallMethod( WriteAll, "for an SCSCP TCP stream: the whole string at once",
    [ IsInputOutputTCPStreamRep and IsInputOutputStream, IsString ], 1,
function( stream, string )
    if IO_Write( stream![1], string ) = fail then
        return fail;
    fi;
    return true;
end );
