namespace AbilisFast.Protocol;
