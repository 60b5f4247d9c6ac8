#############################################################################
##
##  worker.g -- start the SCSCP server of a GAP worker. Read after the files
##  that install its procedures. The gateway (or a container) says where to
##  listen through the environment, so one script serves every launcher:
##    SCSCP_HOST   interface name or address (default 127.0.0.1)
##    SCSCP_PORT   TCP port (default 26133)
##    SCSCP_PORT_BASE and SCSCP_SLOT, both set: port base + slot instead (the
##                 tasks of a Swarm service, whose slot comes from a template)
##
SetInfoLevel( InfoSCSCP, 0 );
BindGlobal( "WorkerSetting", function( name, default )
    if IsBound( GAPInfo.SystemEnvironment.( name ) ) then
        return GAPInfo.SystemEnvironment.( name );
    fi;
    return default;
end );
BindGlobal( "WorkerPort", function( )
    if WorkerSetting( "SCSCP_PORT_BASE", "" ) <> "" and WorkerSetting( "SCSCP_SLOT", "" ) <> "" then
        return Int( WorkerSetting( "SCSCP_PORT_BASE", "" ) ) + Int( WorkerSetting( "SCSCP_SLOT", "" ) );
    fi;
    return Int( WorkerSetting( "SCSCP_PORT", "26133" ) );
end );
RunSCSCPserver( WorkerSetting( "SCSCP_HOST", "127.0.0.1" ), WorkerPort( ) );
