global using SpoolStore = AbilisFast.Server.Spool.Spool;
