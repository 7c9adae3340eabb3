namespace AbilisFast.Server;
